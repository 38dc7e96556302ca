#!/bin/bash
# Submits grid 'demo': 65 cells in 5 stages, each stage one array job of its
# unfinished cells, after the previous stage has succeeded. Safe to run again once the earlier jobs have left
# the queue: finished cells are not submitted again.
set -euo pipefail
mkdir -p /scratch/demo/slurm/logs /scratch/demo/logs
rm -f /scratch/demo/slurm/failed.tsv
previous=""
# 1 pretrain
todo=$(/opt/masking/masking grid pending --config /scratch/demo/grid.json --out /scratch/demo --first 1 --count 1)
if [ -n "$todo" ]; then
    previous=$(sbatch --parsable --array="$todo" ${previous:+--dependency=afterok:$previous} /scratch/demo/slurm/cell.sbatch 1)
    echo "submitted job $previous (cells 1-1 of cells.txt: array $todo)"
fi
# 1 learnpolicy, 3 intermediate, 10 finetune
todo=$(/opt/masking/masking grid pending --config /scratch/demo/grid.json --out /scratch/demo --first 2 --count 14)
if [ -n "$todo" ]; then
    previous=$(sbatch --parsable --array="$todo" ${previous:+--dependency=afterok:$previous} /scratch/demo/slurm/cell.sbatch 2)
    echo "submitted job $previous (cells 2-15 of cells.txt: array $todo)"
fi
# 1 learnpolicy, 1 intermediate, 28 finetune
todo=$(/opt/masking/masking grid pending --config /scratch/demo/grid.json --out /scratch/demo --first 16 --count 30)
if [ -n "$todo" ]; then
    previous=$(sbatch --parsable --array="$todo" ${previous:+--dependency=afterok:$previous} /scratch/demo/slurm/cell.sbatch 16)
    echo "submitted job $previous (cells 16-45 of cells.txt: array $todo)"
fi
# 1 intermediate, 10 finetune
todo=$(/opt/masking/masking grid pending --config /scratch/demo/grid.json --out /scratch/demo --first 46 --count 11)
if [ -n "$todo" ]; then
    previous=$(sbatch --parsable --array="$todo" ${previous:+--dependency=afterok:$previous} /scratch/demo/slurm/cell.sbatch 46)
    echo "submitted job $previous (cells 46-56 of cells.txt: array $todo)"
fi
# 9 finetune
todo=$(/opt/masking/masking grid pending --config /scratch/demo/grid.json --out /scratch/demo --first 57 --count 9)
if [ -n "$todo" ]; then
    previous=$(sbatch --parsable --array="$todo" ${previous:+--dependency=afterok:$previous} /scratch/demo/slurm/cell.sbatch 57)
    echo "submitted job $previous (cells 57-65 of cells.txt: array $todo)"
fi
echo "when the last job has finished: /opt/masking/masking grid report --config /scratch/demo/grid.json --out /scratch/demo"
