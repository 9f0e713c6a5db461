"""The fake tree has sd-scripts' networks package, so --network_module networks.lora imports."""
