# Sourced by the train_*.sh recipes, from the repository root: the environment every recipe reads, and the launch.
# Environment (defaults): AMP (false), NUM_GPUS (1), OUTPUT_DIR (output), DATASET_PATH (data/LJSpeech-1.1),
# FILELISTS_DIR (filelists), PREFIX (ljs), PYTHON (python).
: "${AMP:=false}"
: "${NUM_GPUS:=1}"
: "${OUTPUT_DIR:=output}"
: "${DATASET_PATH:=data/LJSpeech-1.1}"
: "${FILELISTS_DIR:=filelists}"
: "${PREFIX:=ljs}"
: "${PYTHON:=python}"

# train.py with the given arguments: one process, or one per GPU through python -m multiproc.
launch_train() {
    local launch=("$PYTHON")
    if (( NUM_GPUS > 1 )); then launch+=(-m multiproc --nproc "$NUM_GPUS"); fi
    exec "${launch[@]}" train.py "$@"
}
