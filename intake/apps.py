from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "intake"
    verbose_name = "Consultation intake"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.contrib.auth import signals
        from django.core import checks

        from clinic import logs, mail
        from intake import staff_access, tasks
        from intake.review import notifications

        checks.register(mail.check_backend, checks.Tags.security, deploy=True)

        # Django's own authentication signals: staff logins belong in the security log.
        signals.user_logged_in.connect(logs.log_login, dispatch_uid="log_login")
        signals.user_logged_out.connect(logs.log_logout, dispatch_uid="log_logout")
        signals.user_login_failed.connect(logs.log_login_failed, dispatch_uid="log_login_failed")
        signals.user_logged_in.connect(staff_access.record_sign_in, dispatch_uid="sign_in_time")
        user_locked_out.connect(logs.log_lockout, dispatch_uid="log_lockout")
        # The rules ran again and raised a submission's outcome: staff are told again.
        notifications.outcome_raised.connect(tasks.queue_raised_notice, dispatch_uid="raised")
