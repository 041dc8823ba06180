"""cygrad.utils.data: Dataset, TensorDataset and DataLoader (torch.utils.data)."""
from cygrad.utils.data.dataloader import DataLoader, default_collate
from cygrad.utils.data.dataset import Dataset, TensorDataset

__all__ = ["Dataset", "TensorDataset", "DataLoader", "default_collate"]
