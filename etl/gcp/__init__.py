"""Google Cloud's live sources: the BigQuery billing export and the Cloud Billing API, through Google's clients."""
