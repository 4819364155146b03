DROP TABLE alert_hits;
