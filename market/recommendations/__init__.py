"""Recommendations on listing pages, 不相关 feedback, and the admins' weight tuning."""
