DROP TABLE need_invitations;
DROP TABLE need_collaboration;
DROP TABLE need_keywords;
DROP TABLE needs;
DROP TABLE publications;
DROP TABLE faculty_availability;
DROP TABLE faculty_keywords;
DROP TABLE faculty_profiles;
