"""musubi-tuner's output as progress. The lines are what its code prints (commit 30c658c):
logging.basicConfig's ``LEVEL:logger:message``, the caches' bare tqdm meter over a generator,
the trainer's tqdm(desc="steps") with set_postfix(avr_loss=…), accelerator.print's lines."""
from __future__ import annotations

from studio.engine.training.log_parser import LineSplitter, LogParser
from studio.engine.training.musubi_log import CacheLogParser, parse_cache_bar

# cache_latents.encode_datasets: two datasets (pictures, then clips), bars redrawn with \r.
CACHE_LATENTS = (
    b"INFO:musubi_tuner.cache_latents:Load dataset config from /t/dataset_config.toml\n"
    b"INFO:musubi_tuner.wan_cache_latents:Loading VAE model from /m/wan_2.1_vae.safetensors\n"
    b"INFO:musubi_tuner.cache_latents:Encoding dataset [0]\n"
    b"0it [00:00, ?it/s]\r1it [00:03,  3.02s/it]\r2it [00:04,  2.10s/it]\r3it [00:05,  1.71s/it]\r"
    b"3it [00:05,  1.71s/it]\n"
    b"INFO:musubi_tuner.cache_latents:Encoding dataset [1]\n"
    b"0it [00:00, ?it/s]\r1it [00:07,  7.40s/it]\r2it [00:13,  6.62s/it]\r2it [00:13,  6.62s/it]\n"
)
# trainer_base.train: the start block, the bar with its loss, an epoch, a checkpoint, the end.
TRAIN = (
    "running training / 学習開始\n"
    "  num train items / 学習画像、動画数: 10\n"
    "  total optimization steps / 学習ステップ数: 4\n"
    "steps:   0%|          | 0/4 [00:00<?, ?it/s]\n"
    "epoch 1/1\n"
    "\rsteps:  25%|██▌       | 1/4 [00:09<00:27,  9.01s/it]"
    "\rsteps:  25%|██▌       | 1/4 [00:09<00:27,  9.01s/it, avr_loss=0.0931]"
    "\rsteps:  50%|█████     | 2/4 [00:17<00:17,  8.70s/it, avr_loss=0.0931]"
    "\nsaving checkpoint: /t/output/mia-step00000002.safetensors\n"
    "\rsteps:  50%|█████     | 2/4 [00:18<00:18,  9.00s/it, avr_loss=0.0874]"
    "\rsteps: 100%|██████████| 4/4 [00:35<00:00,  8.80s/it, avr_loss=0.0811]"
    "\nsaving checkpoint: /t/output/mia.safetensors\n"
    "INFO:musubi_tuner.training.trainer_base:model saved.\n"
).encode()


def test_cache_bars_count_batches_over_every_dataset() -> None:
    splitter, parser = LineSplitter(), CacheLogParser()
    parser.feed_lines(splitter.feed(CACHE_LATENTS[:300]))
    assert parser.dataset == 0 and parser.done() >= 1
    parser.feed_lines(splitter.feed(CACHE_LATENTS[300:]) + splitter.flush())
    assert parser.dataset == 1 and parser.done() == 5  # 3 pictures, then 2 clips
    assert parser.progress is not None and round(parser.progress.rate or 0, 3) == round(1 / 6.62, 3)
    assert any("Loading VAE model" in line for line in parser.tail)
    assert not any("it [" in line for line in parser.tail)  # redraws stay out of the tail


def test_cache_bar_shapes() -> None:
    assert parse_cache_bar("0it [00:00, ?it/s]") is not None
    unsized = parse_cache_bar("12it [01:05,  5.42s/it]")
    assert unsized is not None and (unsized.batches, unsized.total, unsized.elapsed_s) == (12, None, 65.0)
    sized = parse_cache_bar("100%|██████████| 6/6 [00:02<00:00,  2.31it/s]")
    assert sized is not None and (sized.batches, sized.total, sized.rate) == (6, 6, 2.31)
    assert parse_cache_bar("INFO:musubi_tuner.cache_latents:Encoding dataset [0]") is None


def test_the_trainer_output_reads_with_the_sd_scripts_parser() -> None:
    splitter, parser = LineSplitter(), LogParser()
    parser.feed_lines(splitter.feed(TRAIN) + splitter.flush())
    parser.finish()
    steps = [s for s in parser.drain_steps() if s.step]  # the runner drops the 0/N bar (no step done)
    assert [(s.step, s.loss) for s in steps] == [(1, 0.0931), (2, 0.0874), (4, 0.0811)]
    assert parser.total_steps == 4 and parser.epochs == 1 and parser.model_saved
    assert parser.drain_saved() == ["/t/output/mia-step00000002.safetensors", "/t/output/mia.safetensors"]
    assert steps[-1].rate is not None and round(1 / steps[-1].rate, 2) == 8.8
