"""The practitioners' side: the review queue, the submission page, decisions and notifications."""
