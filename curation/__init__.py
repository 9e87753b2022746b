"""Curation: grid result shards in; verified, deduplicated, instruction-paired training
shards out (`viscode.curation.pipeline.curate`), plus repair dialogues grounded in real
execution, a dataset card, and pulling published shards (`viscode.curation.pull`)."""
