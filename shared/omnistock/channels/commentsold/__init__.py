"""CommentSold: live-sale carts (reservations) and orders. Its webhook topics, bodies and
signature scheme are not public, so every assumed shape lives in ``webhooks``; webhooks are
hints that the poll confirms."""

from omnistock.channels import Platform

# One number per variant: channels of it are pushed at a nominal location.
PLATFORM = Platform("commentsold", "CommentSold", one_per_stack=True, nominal_location="shop")
