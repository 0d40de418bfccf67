"""The defence matrix (`lab matrix`): each defence of demo:hardened switched off in turn,
over the exercises that exercise it, against the ownership table of gaplab.demo.ownership."""
