"""Names of the environment variables imgproc reads, defined once.

The CDK stack imports these so the function's environment and the handler never disagree.
"""

# CLI equivalents of the global options.
BUCKET = "IMGPROC_BUCKET"
TABLE = "IMGPROC_TABLE"
STACK = "IMGPROC_STACK"
QUEUE_URL = "IMGPROC_QUEUE_URL"

# Read by the Lambda (and honoured by the CLI where they make sense).
METADATA_TABLE = "IMAGE_METADATA_TABLE"
MAX_IMAGE_SIZE = "MAX_IMAGE_SIZE"
CLOUDFRONT_DOMAIN = "CLOUDFRONT_DISTRIBUTION"
CLOUDFRONT_DISTRIBUTION_ID = "CLOUDFRONT_DISTRIBUTION_ID"
CONFIG_FILE = "IMGPROC_CONFIG"
# Memory one render may use in the Lambda's worker (default: the function's memory less 320).
WORKER_MEMORY_MB = "IMGPROC_WORKER_MEMORY_MB"
