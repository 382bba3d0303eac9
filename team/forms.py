# Forms of the sign-in pages: the password reset e-mail goes through the e-mail job, with an absolute link.
from django.contrib.auth.forms import PasswordResetForm
from django.template import loader

from team import services


class CrmPasswordResetForm(PasswordResetForm):
    """Django's reset form; the e-mail is queued (sent by a job) and its link built from SITE_URL."""

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, **kwargs):
        context = {**context, "site_url": services.site_url("").rstrip("/")}
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        services.email_queue(to=to_email, subject=subject, body=body)
