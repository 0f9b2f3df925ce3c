"""The imgproc CDK app: one construct per concern (storage, records, processing, CDN,
monitoring), wired in `stack.ImgprocStack`."""
