"""Learned initialisations and functa: fitting a new signal in a few steps.

Two ways to learn from a dataset of signals where the next fit should start:

* a learned **initialisation** (learnit, Tancik et al. 2021): MAML, its
  first-order variant or Reptile meta-learns a network's parameters (and,
  with Meta-SGD, per-parameter inner rates) so that a few SGD steps fit a
  new signal; :func:`inr.fit_signal` and friends take it as ``init=``;
* **functa** (Dupont et al. 2022): one shared :class:`ModulatedSiren`, each
  signal a short latent vector fitted in a few steps (:func:`fit_latents`),
  so a dataset of signals becomes a dataset of vectors.

Both come from :func:`meta_train` (the network decides which), save and
load as one file, and ship pretrained on CelebA faces at 64x64
(``"pretrained:celeba-init"``, ``"pretrained:celeba-functa"``;
non-commercial research use only, as CelebA).  Guide: ``docs/meta.md``.
"""

from inr.init import Init, learned_sgd
from inr.meta.config import METHODS, MetaConfig
from inr.meta.data import image_folder
from inr.meta.functa import (
    PRETRAINED_FUNCTA,
    Functa,
    LatentValues,
    ModulatedSiren,
    fit_latents,
    load_functa,
    load_latents,
    save_functa,
    save_latents,
)
from inr.meta.init import PRETRAINED_INITS, load_init, save_init
from inr.meta.inner import adapt
from inr.meta.learn import DEFAULT_OUTER, meta_train

__all__ = [
    "DEFAULT_OUTER",
    "METHODS",
    "PRETRAINED_FUNCTA",
    "PRETRAINED_INITS",
    "Functa",
    "Init",
    "LatentValues",
    "MetaConfig",
    "ModulatedSiren",
    "adapt",
    "fit_latents",
    "image_folder",
    "learned_sgd",
    "load_functa",
    "load_init",
    "load_latents",
    "meta_train",
    "save_functa",
    "save_init",
    "save_latents",
]
