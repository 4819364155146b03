DROP TABLE workers;
DROP TABLE saved_alerts;
DROP TABLE notification_settings;
DROP TABLE notifications;
DROP TABLE events;
