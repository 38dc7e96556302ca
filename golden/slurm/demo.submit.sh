#!/bin/bash
# Submits grid 'demo': 69 cells in 5 stages, each stage one array job of its
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
# 1 learnpolicy, 3 intermediate, 9 finetune
todo=$(/opt/masking/masking grid pending --config /scratch/demo/grid.json --out /scratch/demo --first 2 --count 13)
if [ -n "$todo" ]; then
    previous=$(sbatch --parsable --array="$todo" ${previous:+--dependency=afterok:$previous} /scratch/demo/slurm/cell.sbatch 2)
    echo "submitted job $previous (cells 2-14 of cells.txt: array $todo)"
fi
# 2 learnpolicy, 1 intermediate, 25 finetune
todo=$(/opt/masking/masking grid pending --config /scratch/demo/grid.json --out /scratch/demo --first 15 --count 28)
if [ -n "$todo" ]; then
    previous=$(sbatch --parsable --array="$todo" ${previous:+--dependency=afterok:$previous} /scratch/demo/slurm/cell.sbatch 15)
    echo "submitted job $previous (cells 15-42 of cells.txt: array $todo)"
fi
# 2 intermediate, 9 finetune
todo=$(/opt/masking/masking grid pending --config /scratch/demo/grid.json --out /scratch/demo --first 43 --count 11)
if [ -n "$todo" ]; then
    previous=$(sbatch --parsable --array="$todo" ${previous:+--dependency=afterok:$previous} /scratch/demo/slurm/cell.sbatch 43)
    echo "submitted job $previous (cells 43-53 of cells.txt: array $todo)"
fi
# 16 finetune
todo=$(/opt/masking/masking grid pending --config /scratch/demo/grid.json --out /scratch/demo --first 54 --count 16)
if [ -n "$todo" ]; then
    previous=$(sbatch --parsable --array="$todo" ${previous:+--dependency=afterok:$previous} /scratch/demo/slurm/cell.sbatch 54)
    echo "submitted job $previous (cells 54-69 of cells.txt: array $todo)"
fi
echo "when the last job has finished: /opt/masking/masking grid report --config /scratch/demo/grid.json --out /scratch/demo"
