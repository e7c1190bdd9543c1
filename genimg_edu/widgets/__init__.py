"""Interactive controls for the notebooks (ipywidgets).

Every control here works in two modes:

- **live** (JupyterLab, Notebook, Colab, VS Code): sliders and buttons that
  update a picture in place;
- **static** (no browser attached — nbval, ``jupyter nbconvert --execute``):
  the picture for the default settings and one line saying how to get the
  controls (`common.show_static_png`). Stored notebook outputs therefore stay
  identical between runs.

The mode is ``GENIMG_WIDGETS=live|static``; by default it is live, except under
pytest (nbval), where nothing could ever move a slider.

One module per notebook; each control is imported from here::

    notebook            module            controls
    01 preprocessing    preprocessing     preprocessing_playground (preprocess_settings, INTERPOLATIONS)
    03 GAN              gan               gan_toy_stepper, toy_gan_figure (also 07), class_picker,
                                          interpolation_slider
    04 VAE              vae               latent_explorer (also 08)
    06 evaluation       genimg_edu.quiz   real_or_generated_quiz (its own module: the game's rules)
    07 diffusion        diffusion         guidance_explorer, denoising_slider (flow_trace)
    08 challenges       challenges        watermark_explorer
    all                 common            png_bytes, figure_png, canvas_png, grid_png, show_static_png,
                                          digit_buttons
"""
from genimg_edu.widgets.challenges import watermark_explorer
from genimg_edu.widgets.common import canvas_png, digit_buttons, figure_png, grid_png, png_bytes, show_static_png
from genimg_edu.widgets.diffusion import denoising_slider, flow_trace, guidance_explorer
from genimg_edu.widgets.gan import class_picker, gan_toy_stepper, interpolation_slider, toy_gan_figure
from genimg_edu.widgets.preprocessing import INTERPOLATIONS, preprocess_settings, preprocessing_playground
from genimg_edu.widgets.vae import latent_explorer

__all__ = ["INTERPOLATIONS", "canvas_png", "class_picker", "denoising_slider", "digit_buttons", "figure_png",
           "flow_trace", "gan_toy_stepper", "grid_png", "guidance_explorer", "interpolation_slider",
           "latent_explorer", "png_bytes", "preprocess_settings", "preprocessing_playground", "show_static_png",
           "toy_gan_figure", "watermark_explorer"]
