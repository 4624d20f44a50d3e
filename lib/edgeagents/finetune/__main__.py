from edgeagents.finetune.pipeline import main

main()
