"""One module per `imgproc` command; each is a thin edge over the core."""
