"""Training: supervised fine-tuning of a causal code model on curated shards with accelerate
(`viscode.train.loop.Trainer`), and model folders to start from (`viscode.train.model.init_model`)."""
