"""What browsers see: the manifest they poll, the `<imgproc-image>` component, the local
preview server standing in for the CDN, and the static contact sheet."""
