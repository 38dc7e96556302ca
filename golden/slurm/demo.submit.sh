#!/bin/bash
# Submits grid 'demo': 65 cells in 5 stages, each stage one array job.
set -euo pipefail
mkdir -p /scratch/demo/slurm/logs /scratch/demo/logs
previous=""
# 1 pretrain
previous=$(sbatch --parsable --array=0-0 ${previous:+--dependency=afterok:$previous} /scratch/demo/slurm/cell.sbatch 1)
echo "submitted job $previous"
# 1 learnpolicy, 3 intermediate, 10 finetune
previous=$(sbatch --parsable --array=0-13 ${previous:+--dependency=afterok:$previous} /scratch/demo/slurm/cell.sbatch 2)
echo "submitted job $previous"
# 1 learnpolicy, 1 intermediate, 28 finetune
previous=$(sbatch --parsable --array=0-29 ${previous:+--dependency=afterok:$previous} /scratch/demo/slurm/cell.sbatch 16)
echo "submitted job $previous"
# 1 intermediate, 10 finetune
previous=$(sbatch --parsable --array=0-10 ${previous:+--dependency=afterok:$previous} /scratch/demo/slurm/cell.sbatch 46)
echo "submitted job $previous"
# 9 finetune
previous=$(sbatch --parsable --array=0-8 ${previous:+--dependency=afterok:$previous} /scratch/demo/slurm/cell.sbatch 57)
echo "submitted job $previous"
echo "when the last job has finished: /opt/masking/masking grid report --config /scratch/demo/grid.json --out /scratch/demo"
