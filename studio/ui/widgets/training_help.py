"""What each field of the training form does, in plain words with typical values: the tooltips,
kept in one table so they read alike and none is missing (a test checks every field has one).
"""
from __future__ import annotations

FIELD_HELP: dict[str, str] = {
    # Pickers above the settings.
    "dataset": "The pictures and captions the LoRA learns from. 15–40 varied, sharp pictures of "
               "one person usually give a good likeness.",
    "preset": "A starting point for every value below, made for a model family, a purpose and a "
              "graphics card size. Your own saved presets are listed after the built-in ones.",
    "sd_scripts": "The folder of kohya's sd-scripts, which does the training. Set it once in "
                  "Settings; here only to try another copy.",
    # Basic.
    "base_model": "The checkpoint the LoRA is trained on (.safetensors). Use the model you will "
                  "generate with, e.g. SD 1.5 or SDXL base.",
    "max_train_steps": "How many training steps in total. More learns more but can overfit. "
                       "Typical: 1000–3000; empty to count by epochs instead.",
    "max_train_epochs": "How many times the whole dataset is gone through. Typical: 10–20; "
                        "empty to count by steps instead.",
    "learning_rate": "How big each learning step is. Too high burns the likeness in and looks "
                     "overcooked; too low learns slowly. Typical: 1e-4 (0.0001).",
    "network_dim": "The LoRA's size (rank): how much it can learn. Typical: 16–32 for a face, "
                   "64–128 for a style; bigger files train slower.",
    "network_alpha": "Scales the LoRA's strength while training. Typical: half of network_dim, "
                     "or equal to it.",
    "train_batch_size": "Pictures learned from at once. Higher is faster but needs more graphics "
                        "memory. Typical: 1–2 on 12 GB, 2–4 on 24 GB.",
    "resolution": "The picture size trained at, in pixels. 512 for SD 1.5, 1024 for SDXL.",
    "save_every_n_steps": "Saves a checkpoint every this many steps, so you can pick the best "
                          "one later. Typical: 200–500; empty: only at the end.",
    "save_every_n_epochs": "Saves a checkpoint every this many epochs. Typical: 1–2; empty: not "
                           "by epoch.",
    "sample_every_n_steps": "Makes sample pictures every this many steps, to watch the likeness "
                            "grow. Typical: 100–250; empty: no samples (faster).",
    "sample_prompts": "The prompts of the sample pictures, one per line; {trigger} becomes the "
                      "influencer's trigger word.",
    # Advanced.
    "optimizer_type": "The method that applies each learning step. AdamW8bit saves memory and is "
                      "the usual choice; Prodigy sets its own learning rate (use 1.0).",
    "lr_scheduler": "How the learning rate changes over the run. cosine eases it down towards the "
                    "end; constant keeps it the same.",
    "lr_warmup_steps": "Steps at the start with a smaller learning rate, for a gentle start. "
                       "Typical: 0–100.",
    "unet_lr": "A separate learning rate for the image part of the model; empty: learning_rate. "
               "Typical: 1e-4.",
    "text_encoder_lr": "A separate learning rate for the part that reads prompts; usually lower. "
                       "Typical: 5e-5; empty: learning_rate.",
    "network_train_unet_only": "Trains only the image part, not the prompt reader. Saves memory; "
                               "common for SDXL.",
    "mixed_precision": "Number format while training. bf16 on recent NVIDIA cards (RTX 30 and "
                       "later), fp16 on older ones.",
    "save_precision": "Number format of the saved LoRA. fp16 gives small files and is the usual "
                      "choice.",
    "gradient_checkpointing": "Uses much less graphics memory at about 20–30 % slower training. "
                              "Turn on when memory runs out.",
    "cache_latents": "Prepares the pictures once before training: faster and less memory. "
                     "Leave on unless flipping pictures.",
    "cache_text_encoder_outputs": "Prepares the captions once (SDXL): less memory, but captions "
                                  "can no longer be shuffled.",
    "sdpa": "A faster, memory-saving way to compute attention. Leave on.",
    "seed": "The random start. The same seed and settings train the same LoRA again. Any whole "
            "number, e.g. 42.",
    "num_repeats": "How often each picture is shown per epoch. Typical: 10 for 20 pictures; "
                   "empty: the dataset's own setting.",
    "enable_bucket": "Trains on pictures of different shapes without cropping them square. "
                     "Leave on.",
    "min_bucket_reso": "The smallest side a picture shape may have, in pixels. Typical: 256 "
                       "(SD 1.5), 512 (SDXL).",
    "max_bucket_reso": "The largest side a picture shape may have, in pixels. Typical: 1024 "
                       "(SD 1.5), 2048 (SDXL).",
    "shuffle_caption": "Mixes the order of caption tags each time, so no tag order is learned. "
                       "Usually on.",
    "keep_tokens": "How many tags at the front stay in place when shuffling; 1 keeps the trigger "
                   "word first.",
    "flip_aug": "Also learns from mirrored pictures. Off for faces that are not symmetrical "
                "(a parting, a mole).",
    "caption_dropout_rate": "The share of steps that train without a caption. Typical: 0–0.1.",
    "save_state": "Also saves the training state with each checkpoint, so a stopped training can "
                  "be resumed. Takes more disk space.",
    "max_data_loader_n_workers": "Helper processes that read pictures. Typical: 1–4; lower it if "
                                 "memory runs short.",
}


def help_for(name: str) -> str:
    return FIELD_HELP.get(name, "")
