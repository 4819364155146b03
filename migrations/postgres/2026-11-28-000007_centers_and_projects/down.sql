DROP TABLE project_payments;
DROP TABLE project_investigators;
DROP TABLE funded_projects;
DROP TABLE center_funding;
DROP TABLE center_focus_areas;
DROP TABLE center_members;
DROP TABLE center_partners;
DROP TABLE centers;
