DROP TABLE engagement_events;
DROP TABLE engagements;
