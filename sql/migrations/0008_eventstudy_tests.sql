-- 0008: the rest of the event-study battery (issue 13). Existing warehouses get the new statistics as NULL columns
-- until the next `eventstudy run` recomputes them; `mean_bhar` is renamed `bhar_mean`, the name file mode uses.
-- Formulas and references: docs/eventstudy.md.

ALTER TABLE event_study_cross RENAME COLUMN mean_bhar TO bhar_mean;
ALTER TABLE event_study_cross ADD COLUMN r_bar DOUBLE;  -- mean pairwise correlation of estimation residuals (KP)
ALTER TABLE event_study_cross ADD COLUMN car_lamb DOUBLE;
ALTER TABLE event_study_cross ADD COLUMN car_patell_kp DOUBLE;
ALTER TABLE event_study_cross ADD COLUMN car_bmp_kp DOUBLE;
ALTER TABLE event_study_cross ADD COLUMN car_grank DOUBLE;
ALTER TABLE event_study_cross ADD COLUMN bhar_t DOUBLE;
ALTER TABLE event_study_cross ADD COLUMN bhar_skew_t DOUBLE;
ALTER TABLE event_study_cross ADD COLUMN car_lamb_p DOUBLE;
ALTER TABLE event_study_cross ADD COLUMN car_patell_kp_p DOUBLE;
ALTER TABLE event_study_cross ADD COLUMN car_bmp_kp_p DOUBLE;
ALTER TABLE event_study_cross ADD COLUMN car_grank_p DOUBLE;
ALTER TABLE event_study_cross ADD COLUMN bhar_t_p DOUBLE;
ALTER TABLE event_study_cross ADD COLUMN bhar_skew_t_p DOUBLE;
ALTER TABLE event_study_cross ADD COLUMN car_lamb_stars VARCHAR;
ALTER TABLE event_study_cross ADD COLUMN car_patell_kp_stars VARCHAR;
ALTER TABLE event_study_cross ADD COLUMN car_bmp_kp_stars VARCHAR;
ALTER TABLE event_study_cross ADD COLUMN car_grank_stars VARCHAR;
ALTER TABLE event_study_cross ADD COLUMN bhar_t_stars VARCHAR;
ALTER TABLE event_study_cross ADD COLUMN bhar_skew_t_stars VARCHAR;

ALTER TABLE event_study_cross_daily ADD COLUMN r_bar DOUBLE;
ALTER TABLE event_study_cross_daily ADD COLUMN lamb DOUBLE;
ALTER TABLE event_study_cross_daily ADD COLUMN corrado_sign DOUBLE;
ALTER TABLE event_study_cross_daily ADD COLUMN modified_rank DOUBLE;
ALTER TABLE event_study_cross_daily ADD COLUMN patell_kp DOUBLE;
ALTER TABLE event_study_cross_daily ADD COLUMN lamb_p DOUBLE;
ALTER TABLE event_study_cross_daily ADD COLUMN corrado_sign_p DOUBLE;
ALTER TABLE event_study_cross_daily ADD COLUMN modified_rank_p DOUBLE;
ALTER TABLE event_study_cross_daily ADD COLUMN patell_kp_p DOUBLE;
ALTER TABLE event_study_cross_daily ADD COLUMN lamb_stars VARCHAR;
ALTER TABLE event_study_cross_daily ADD COLUMN corrado_sign_stars VARCHAR;
ALTER TABLE event_study_cross_daily ADD COLUMN modified_rank_stars VARCHAR;
ALTER TABLE event_study_cross_daily ADD COLUMN patell_kp_stars VARCHAR;
