"""Schedules and workers: cron schedules fired exactly once, queued runs executed by workers, notifications."""
