"""Radiance fields from posed photographs: NeRF and instant-ngp on the objective interface.

A camera (:class:`inr.Camera`) integrates colour and density along each
ray; :func:`fit_radiance_field` fits a field to a scene's posed images by
rendering random rays through it (:mod:`inr.volume`: stratified
samples, compositing, resampling), skipping empty space with an occupancy
grid (:mod:`inr.nerf.occupancy`), and returns a :class:`RadianceField`
that renders any camera.  :func:`load_blender` reads the NeRF synthetic
scenes.  Guide: ``docs/nerf.md``.
"""

from inr.nerf.data import load_blender
from inr.nerf.field import NeRFField, NGPField, trunc_exp
from inr.nerf.objective import RadianceObjective, fit_radiance_field
from inr.nerf.occupancy import OccupancyGrid
from inr.nerf.options import Occupancy, Sampling
from inr.nerf.radiance import RadianceField, View
from inr.volume import Rendered, box_interval, composite, integrate, resample, stratified

__all__ = [
    "NGPField",
    "NeRFField",
    "Occupancy",
    "OccupancyGrid",
    "RadianceField",
    "RadianceObjective",
    "Rendered",
    "Sampling",
    "View",
    "box_interval",
    "composite",
    "fit_radiance_field",
    "integrate",
    "load_blender",
    "resample",
    "stratified",
    "trunc_exp",
]
