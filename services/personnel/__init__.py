"""The personnel service: the organisation and its people, kept current from the HR topics."""
