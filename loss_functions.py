"""The training loss of each model, looked up through the model table in models.py."""
from models import model_package


def get_loss_function(model_name, args):
    return model_package(model_name).build_loss(args)
