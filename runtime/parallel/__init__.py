"""Several devices and hosts: which devices a run uses, grid arrays split over a device
mesh (`sharding`), and an fd program's state placed on that mesh (`fd_program`)."""
