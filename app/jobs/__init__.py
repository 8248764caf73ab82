"""Jobs that span features (the cron schedule, the sweep that queues lost work again),
and the old dotted paths of jobs that moved into their features: jobs queued before
the move still resolve (remove the aliases after one release). The job machinery
itself is app.core.jobs."""
