"""Events: the shipped catalog of dated announcements, the user's own events, validation and day 0."""
