from edgeagents.models.finetune.pipeline import main

main()
