"""The embedded local stack: template.yaml's resources on a moto server, the real handlers behind
a local API gateway, queue pollers feeding worker processes, and a local stand-in for AWS Batch."""
