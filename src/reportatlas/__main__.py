from reportatlas.cli import main
import sys
sys.exit(main())
