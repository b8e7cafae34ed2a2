"""What a contract reads through: S3, SSM and ArcticDB clients, the shared window
read, secrets and their masking, the trading calendar, artifact schemas.

No pytest import, and no import of any other part of the plugin.
"""
