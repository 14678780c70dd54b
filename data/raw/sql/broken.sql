PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE snippets (id INTEGER PRIMARY KEY, text TEXT NOT NULL);
INSERT INTO snippets VALUES(1,'A clean chain shifts better than an expensive one. Wipe it after every wet ride and oil it sparingly.');
INSERT INTO snippets VALUES(2,'When a recipe fails, change one thing at a time next attempt, or you will never know which change helped.');
INSERT INTO snippets #~@! 0x3f3f ??? garbled::row (3 'this row was mangled in transit';
INSERT INTO snippets VALUES(4,'Keep a notebook by the piano and write down one thing to improve at the end of each practice session. It''s the quickest way to see progress.');
INSERT INTO snippets VALUES(5,'Seedlings that lean toward the window are asking for more light; turn the tray a little each day);
COMMIT;
