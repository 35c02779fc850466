"""The patient's side: the questionnaire's pages, their forms, and the abuse limits on them."""
