# What the agenda does when a lower app says something happened (connected in AgendaConfig.ready()).
from agenda import services


def close_style_requests(sender, report, **kwargs):
    """The coach reported the person's style: the request for it is done (in the report's transaction)."""
    services.style_requests_close(coach=report.coach, contact=report.contact)
