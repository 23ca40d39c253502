"""Admin: the domain concept map (browse, add synonyms and problem phrases) and the
searches that found nothing."""
