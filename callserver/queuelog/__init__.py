"""Asterisk's `queue_log`, written by callserver from its facts so queue_log readers (QueueMetrics,
Wazo-style statistics, home-made scripts) work unchanged; see docs/queue-log.md."""
