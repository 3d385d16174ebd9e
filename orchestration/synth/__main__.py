from orchestration.synth.cli import main

raise SystemExit(main())
