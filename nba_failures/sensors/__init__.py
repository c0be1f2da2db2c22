"""Sensors: notice raw arrivals, retry what is correctable, give up when retrying cannot help."""
