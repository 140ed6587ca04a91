"""Boundaries of the fd grid: which nodes each condition owns (`conditions`), the closing
rows that set them (`closure`), the row by which one field's extra condition closes a
coupled field (`coupled`), and point and mean conditions held by a Lagrange multiplier
(`constraints`)."""
