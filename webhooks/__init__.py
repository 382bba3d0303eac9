"""Outbound webhooks: endpoints admins register, the events sent to them, signed and retried."""
