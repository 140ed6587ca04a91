"""The pinn method on shaped domains: points inside the region and on its boundary
(`sampling`, `implicit`), the loss terms there (`terms`), and Dirichlet values built in
through approximate distance functions (`distance`, `hard`)."""

from .distance import distance_function
from .hard import constrain_to_boundary
from .sampling import BoundarySample, sample_boundary, sample_inside
from .terms import ShapedDomain, boundary_terms, place_terms, shaped_domain

__all__ = ["BoundarySample", "ShapedDomain", "boundary_terms", "constrain_to_boundary",
           "distance_function", "place_terms", "sample_boundary", "sample_inside",
           "shaped_domain"]
