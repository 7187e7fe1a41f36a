"""CommentSold: live-sale carts (reservations) and orders. Its webhook topics, bodies and
signature scheme are not public, so every assumed shape lives in ``webhooks``; webhooks are
hints that the poll confirms."""
