#!/bin/bash
# Submits grid 'demo': 97 cells in 5 stages, each stage one array job of its
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
# 1 learnpolicy, 3 intermediate, 13 finetune
todo=$(/opt/masking/masking grid pending --config /scratch/demo/grid.json --out /scratch/demo --first 2 --count 17)
if [ -n "$todo" ]; then
    previous=$(sbatch --parsable --array="$todo" ${previous:+--dependency=afterok:$previous} /scratch/demo/slurm/cell.sbatch 2)
    echo "submitted job $previous (cells 2-18 of cells.txt: array $todo)"
fi
# 2 learnpolicy, 1 intermediate, 37 finetune
todo=$(/opt/masking/masking grid pending --config /scratch/demo/grid.json --out /scratch/demo --first 19 --count 40)
if [ -n "$todo" ]; then
    previous=$(sbatch --parsable --array="$todo" ${previous:+--dependency=afterok:$previous} /scratch/demo/slurm/cell.sbatch 19)
    echo "submitted job $previous (cells 19-58 of cells.txt: array $todo)"
fi
# 2 intermediate, 13 finetune
todo=$(/opt/masking/masking grid pending --config /scratch/demo/grid.json --out /scratch/demo --first 59 --count 15)
if [ -n "$todo" ]; then
    previous=$(sbatch --parsable --array="$todo" ${previous:+--dependency=afterok:$previous} /scratch/demo/slurm/cell.sbatch 59)
    echo "submitted job $previous (cells 59-73 of cells.txt: array $todo)"
fi
# 24 finetune
todo=$(/opt/masking/masking grid pending --config /scratch/demo/grid.json --out /scratch/demo --first 74 --count 24)
if [ -n "$todo" ]; then
    previous=$(sbatch --parsable --array="$todo" ${previous:+--dependency=afterok:$previous} /scratch/demo/slurm/cell.sbatch 74)
    echo "submitted job $previous (cells 74-97 of cells.txt: array $todo)"
fi
echo "when the last job has finished: /opt/masking/masking grid report --config /scratch/demo/grid.json --out /scratch/demo"
