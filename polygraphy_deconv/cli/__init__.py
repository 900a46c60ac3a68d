"""The `polygraphy-deconv` command: one module per subcommand (inspect, fix), registered in main.py."""
