"""Sensors: observe landed game files, retry what is correctable, give up when retrying cannot help."""
