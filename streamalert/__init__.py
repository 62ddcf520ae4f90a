"""StreamAlert's shared framework: config, AWS clients, SQS/Athena/Glue/S3-event code and logging."""
